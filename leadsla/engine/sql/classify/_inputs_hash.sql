{#- A fingerprint of the lead-state columns intent rules read (``inputs``), for ``l``. -#}
hash({% for c in inputs %}l.{{ c }}{{ ", " if not loop.last }}{% endfor %})
