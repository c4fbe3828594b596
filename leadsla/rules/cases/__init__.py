"""Rule fixtures (``sla_rules/tests/*.yaml``): cases the rules must pass, run through the real
engine by ``leadsla check``. ``models`` (the case format and its JSON Schema), ``load`` (read
and refuse), ``exports`` (cases as canonical export files), ``run`` (tick them on a scratch
database and compare), ``check`` (the two together). Importing the package loads no engine."""
