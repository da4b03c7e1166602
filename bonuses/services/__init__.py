"""Every change of a balance goes through these functions (the one door for money).

Each runs in one transaction, locks the accounts it changes (in primary-key order when there
are several, so that two operations cannot deadlock), first settles those accounts up to its
moment `at`, then writes lots, entries and allocations and updates the stored figures. A
refused operation raises a `BonusError` (bonuses.exceptions) and leaves nothing behind.

What lives where:

- `core`: ids in chunks, the operation's moment, locking accounts in primary-key order, account
  ids of users, posting one entry, whether an actor is an administrator;
- `idempotency`: a request repeated with the same key runs once (`run_idempotent`);
- `accrual`: `accrue`, `accrue_many`;
- `deduction`: `write_off`, and an order's reservation: `reserve`, `capture`, `release`, `refund`;
- `settlement`: `settle` (the daily run, or one account) and `settle_locked`, the one settlement
  path, which says which implementation is the reference; `settlement_sql` holds the set-based one;
- `currency`: `get_currency`, `create_currency`, `update_currency_settings`;
- `accounts`: `set_account_state` (logged as AccountStateChange rows), the check that only an
  administrator accrues to a blocked account, `queue_expiry_reminders` (writes that move no points);
- `reversal`: `reverse_batch`, a compensating batch that takes a bulk accrual back, all or nothing
  (a reversed manager's grant returns to their budget);
- `budgets`: managers' budgets: their periods and movements, `return_to_budget` (a reversed grant),
  `open_budgets` (the daily run); a manager's grant draws on their budget inside `accrue` / `accrue_many`;
  `budget_changes`: an administrator's `set_budget`, `top_up_budget(s)`;
- `campaigns`: `save_segment`, `save_campaign`, `end_campaign`, `set_campaign_active`, `delete_campaign`, and
  `run_campaigns` (the daily run: each campaign's awards due on each day since the last run, through
  `accrue_many`, exactly once);
- `grant_requests`: whether a grant needs a second person's approval, the request it becomes and its hold
  on the budget (called by `accrual`); `approvals`: `approve_request`, `reject_request` (which post
  through `accrual`).

The package imports the models, `rules`, `campaign_rules`, `roles`, `planner`, `bulk`, `exceptions` and `notifications`
(e-mails queued in the operation's transaction); nothing of the screens (views, forms, selectors)
and nothing of the shop, which calls it. The application calls the names below; only the tests
that compare the two settlement implementations reach into `settlement` and `settlement_sql`.
"""

from .accounts import queue_expiry_reminders, set_account_state
from .accrual import accrue, accrue_many
from .approvals import approve_request, reject_request
from .budget_changes import set_budget, top_up_budget, top_up_budgets
from .budgets import check_grant, open_budgets, return_grants, return_to_budget
from .campaigns import (
    CampaignRunResult,
    delete_campaign,
    end_campaign,
    run_campaigns,
    save_campaign,
    save_segment,
    set_campaign_active,
)
from .core import BATCH_SIZE
from .currency import create_currency, get_currency, update_currency_settings
from .deduction import capture, refund, release, reserve, write_off
from .idempotency import run_idempotent
from .reversal import reverse_batch
from .settlement import SettleResult, settle

__all__ = [
    "BATCH_SIZE",
    "CampaignRunResult",
    "SettleResult",
    "accrue",
    "accrue_many",
    "approve_request",
    "capture",
    "create_currency",
    "delete_campaign",
    "end_campaign",
    "check_grant",
    "get_currency",
    "open_budgets",
    "queue_expiry_reminders",
    "refund",
    "reject_request",
    "release",
    "reserve",
    "reverse_batch",
    "run_campaigns",
    "return_grants",
    "return_to_budget",
    "run_idempotent",
    "save_campaign",
    "save_segment",
    "set_campaign_active",
    "set_account_state",
    "set_budget",
    "settle",
    "top_up_budget",
    "top_up_budgets",
    "update_currency_settings",
    "write_off",
]
