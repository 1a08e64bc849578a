"""The public portal (采购信息公开, issue 9 item 9): no sign-in, server-rendered, a query
or two per page. Open calls with their documents and clarifications, opening records
after the opening, award notices with their publicity and challenge windows, failed and
cancelled calls with the reason. Nothing sealed before its time (no bid, bidder or bid
count before the opening) and nothing personal ever (no contact, no user)."""
