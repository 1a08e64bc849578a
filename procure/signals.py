"""Domain signals (blinker): how a lower package tells a higher one that something
happened, without importing it (tests/test_layers.py keeps imports one way).

Receivers run synchronously inside the sender's transaction: whatever they write commits
or rolls back with the sender's change, and an exception in a receiver refuses the whole
action. Connect receivers at module import (``@contract_activated.connect``); the module
loader imports every package at app start.

Each signal is sent with the acting user as ``actor`` and the object as ``sender``."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A contract entered force (both parties signed its first version). sender: Contract.
contract_activated = _signals.signal("contract-activated")
#: A milestone report was approved by the officer. sender: MilestoneReport.
milestone_report_approved = _signals.signal("milestone-report-approved")
#: Acceptance passed (grade 优/良/中). sender: Acceptance.
acceptance_passed = _signals.signal("acceptance-passed")
#: Acceptance failed for good (second failure or rectification not done): the contract
#: ends. sender: Acceptance.
acceptance_failed_finally = _signals.signal("acceptance-failed-finally")
