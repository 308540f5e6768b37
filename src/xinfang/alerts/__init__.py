"""Early-warning alerts: the scan that reads petitions and upserts alerts, the acknowledge/resolve trail, and the
outbox that pushes red alerts through pluggable channels (in-app, webhook/WeCom/DingTalk, e-mail, SMS)."""
