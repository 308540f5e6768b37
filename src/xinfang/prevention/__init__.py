"""Prevention and joint effort (issue 9): the dispute-screening ledger and its links to later petitions, the stability
risk assessment register, joint handling (co-handling tasks, joint meetings), grid reports, and the demo data."""
