"""Follow-ups (回访): after a ticket closes, each reporter is asked whether it was solved and how satisfied they are."""
