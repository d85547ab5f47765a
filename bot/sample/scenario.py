"""The sample board's scenario: the team, its policies, the calendar of what goes wrong, and the vocabulary.

Kept apart from the simulation in ``generate.py`` so the story can be read (and edited) in one place.
Changing anything here changes the generated sample: regenerate with ``python -m bot.sample.generate``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from bot.sample import SAMPLE_TIMEZONE

SEED = 26  # picked among a few seeds as a typical run: ~300 items, a clear review queue, ~17 WIP at the end
TZ = zoneinfo.ZoneInfo(SAMPLE_TIMEZONE)
FIRST_DAY = dt.date(2026, 4, 13)  # the tracker project opens: items start arriving in the backlog
TEAM_START = dt.date(2026, 5, 18)  # the team starts pulling work, 26 weeks before SAMPLE_ASOF
HOLIDAYS = (dt.date(2026, 5, 25),)  # Whit Monday
TICK, HOURS_PER_TICK = dt.timedelta(minutes=15), 0.25
BACKLOG, READY, DEV, REVIEW, TEST, DONE, DROPPED = range(7)
TRIAGE = -1  # the item's status is one the workflow does not map
STAGES = (
    ("Backlog", "backlog"),
    ("Ready", "queue"),
    ("Development", "active"),
    ("Review", "queue"),
    ("Test", "active"),
    ("Done", "done"),
    ("Dropped", "discarded"),
)
# Tracker statuses by issue type, one per stage: as in Jira, each issue type has its own tracker workflow.
STATUSES = {
    "Story": (
        "Backlog",
        "Selected for Development",
        "In Development",
        "In Review",
        "In Test",
        "Done",
        "Won't Do",
    ),
    "Bug": ("To Do", "Ready for Dev", "In Progress", "Code Review", "QA", "Closed", "Won't Do"),
    "Task": (
        "To Do",
        "Selected for Development",
        "In Progress",
        "Code Review",
        "In Test",
        "Done",
        "Cancelled",
    ),
}
TYPES, TYPE_SHARES = ("Story", "Bug", "Task"), (0.55, 0.3, 0.15)
DEV_HOURS = {"Story": 13.0, "Bug": 6.0, "Task": 5.0}  # median hands-on hours in Development
WIP_LIMITS = {READY: 6, DEV: 4, REVIEW: 3, TEST: 3}
ARRIVALS_PER_DAY = 2.0
DEVELOPERS, TESTERS = ("Anna", "Luca", "Sofia", "Jonas"), ("Nina", "Marco")
SENIORS = DEVELOPERS[:3]  # who may approve a review
AWAY = {
    "Anna": (dt.date(2026, 8, 17), dt.date(2026, 9, 18)),  # on holiday
    "Nina": (dt.date(2026, 11, 12), dt.date(2026, 11, 20)),
}  # off sick
NOT_REVIEWING = {**AWAY, "Luca": (dt.date(2026, 8, 24), dt.date(2026, 9, 25))}  # Luca is on an incident
SWARM = (dt.date(2026, 9, 28), dt.date(2026, 10, 9))  # every developer reviews until the queue is gone
# Long blockers that leave old items in progress at the end: (from day, stage, reason, days blocked).
SCRIPTED_BLOCKS = (
    (dt.date(2026, 10, 13), DEV, "Waiting for the acquirer's 3-D Secure certification", 60),
    (dt.date(2026, 10, 28), REVIEW, "Needs a security review of the new key storage", 40),
    (dt.date(2026, 11, 2), DEV, "Depends on the platform team's database migration", 9),
)
DEV_BLOCKERS = (
    "Waiting for PSP sandbox credentials",
    "Waiting on the security team's review",
    "Acquirer sandbox returns 500",
    "Needs a product decision on how fees are shown",
    "Depends on the platform team's database migration",
    "Waiting for legal to approve the new terms",
)
TEST_BLOCKERS = ("Staging environment is down", "Test cards expired in the acquirer sandbox")
METHODS = (
    "TWINT",
    "Apple Pay",
    "Google Pay",
    "PayPal",
    "SEPA Direct Debit",
    "Klarna",
    "PostFinance Card",
    "Visa",
    "Mastercard",
    "Amex",
    "iDEAL",
    "Bancontact",
)
TITLES = {
    "Story": (
        "Add {m} to the checkout",
        "Support partial refunds for {m}",
        "Let merchants switch {m} on and off",
        "Show {m} payouts in the merchant dashboard",
        "Save {m} as a payment method for returning customers",
        "Support recurring payments with {m}",
        "Export {m} settlements as CSV",
        "Add {m} to the mobile app",
        "Show the fee of each {m} payment",
        "Show pending {m} payments in the order history",
        "Send a receipt by e-mail after {m} payments",
        "Add 3-D Secure to card checkout",
        "Let customers split a payment between two cards",
        "Support CHF and EUR prices in one checkout",
    ),
    "Bug": (
        "Fix double charge when {m} times out",
        "Refund webhook for {m} is retried forever",
        "Checkout button stays disabled after {m} cancel on Safari",
        "Wrong fee shown for {m} refunds",
        "Payout report misses {m} payments at month end",
        "Duplicate notifications after a {m} retry",
        "{m} status polling times out under load",
        "Rounding error in EUR invoices",
        "3-D Secure pop-up blocked in the iOS app",
    ),
    "Task": (
        "Upgrade the {m} SDK",
        "Rotate the {m} API keys",
        "Add alerting for {m} webhook failures",
        "Load-test {m} checkout before Black Friday",
        "Write the {m} reconciliation runbook",
        "Remove the old {m} feature flag",
        "Add contract tests for the {m} client",
        "Move the settlement job to a Kubernetes CronJob",
        "Update the PCI DSS self-assessment",
    ),
}
