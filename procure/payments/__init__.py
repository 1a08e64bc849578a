"""Payments (资金拨付), issue 11 item 3: an installment of a contract's schedule requested
when its milestone report is approved (or, for the final one, when acceptance passed),
confirmed by the officer, approved by finance along a configurable chain with separation
of duties, recorded paid (voucher, date) in the ledger, and announced to the organization
with a payment notice (拨付通知, PDF). ``models`` holds the data and the machine,
``services`` the rules, ``rendering`` the notice, ``reminders`` and ``worklists`` the
dashboard's and the beat's share."""
