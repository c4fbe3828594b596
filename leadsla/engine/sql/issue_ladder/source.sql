-- Valid, routed, unanswered issues that may still climb and whose next threshold has come.
run(
    con,
