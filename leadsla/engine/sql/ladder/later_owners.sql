{#- The clocks that start at the response name the owner the ladder ended with, whichever
    round moved the lead. -#}
UPDATE later_src c SET owner = l.owner, previous_owners = l.previous_owners
FROM lead_state l
WHERE l.lead_id = c.lead_id AND c.lead_id IN (SELECT lead_id FROM all_moved)
