"""Administration: user accounts (list, reset password, deactivate) and the notice templates a deployment edits."""
