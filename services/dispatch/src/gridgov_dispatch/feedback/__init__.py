"""Reporters' ratings (满意度) from the follow-ups (回访): recorded per ticket; a bad one reopens the case (返工)."""
