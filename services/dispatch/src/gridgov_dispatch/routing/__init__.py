"""The rule sets' API: check a candidate, publish it, replay it over past tickets. The engine itself (rules and
``decide``, parsing and checking, replay) and the published versions are ``rules``, which tickets build on;
this folder reads past tickets, so it sits above them."""
