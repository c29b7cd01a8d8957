"""Verification (核实): a verify_first alarm group waits for its grid's worker to confirm it or call it a false
positive."""
