"""Work inboxes: the petitions waiting on the current user's unit, grouped the way a desk works through them."""
