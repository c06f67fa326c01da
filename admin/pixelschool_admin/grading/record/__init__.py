"""Recording in the instructor's process, the gradebook's one writer: the autograde loop, the
grader's judgement, manual grades kept across regrades, the ledger and the canary."""
