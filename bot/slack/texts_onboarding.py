"""Every word of the `/flow connect` and `/flow settings` modals, and of the messages that follow them.

Kept apart from ``bot.slack.texts`` only while both are written at once; they merge later, which is why every
name starts with ``CONNECT_`` or ``SETTINGS_``. Arguments that end up in mrkdwn arrive already escaped.
Modal titles and buttons stay within Slack's 24 characters.
"""

from __future__ import annotations

# --- /flow connect: step 1, the source ----------------------------------------------------------------------

CONNECT_TITLE = "Connect a board"
CONNECT_NEXT = "Next"
CONNECT_CANCEL = "Cancel"
CONNECT_CHECK = "Check connection"
CONNECT_CREATE = "Create board"
CONNECT_CLOSE = "Close"
CONNECT_INTRO = (
    "flowcoach reads your tracker's history and shows the team's flow in a channel: WIP against limits, "
    "aging and blocked items, forecasts. Three steps: the source, how to reach it, then how its statuses "
    "map to the board's stages."
)
CONNECT_CONNECTOR_LABEL = "Where does the board's data come from?"
CONNECT_CONNECTOR_PLACEHOLDER = "Choose a source"
CONNECT_CONNECTOR_NAMES = {
    "jira": "Jira Cloud",
    "jira-dc": "Jira Data Center / Server",
    "file": "Event-log file",
}
CONNECT_CONNECTOR_HELP = {
    "jira": "a site on atlassian.net, with an API token",
    "jira-dc": "your own Jira server, with a personal access token",
    "file": "a CSV or JSON Lines file on flowcoach's server",
}
CONNECT_CHANNEL_LABEL = "Channel for status, digests and nudges"
CONNECT_CHANNEL_HINT = "Invite flowcoach to a private channel first (/invite @flowcoach)."
CONNECT_NAME_LABEL = "Board name"
CONNECT_NAME_HINT = "How /flow commands name the board, e.g. Payments."
CONNECT_NAME_TAKEN = "A board named '{name}' already exists in this workspace: choose another name."
CONNECT_NAME_BLANK = "Give the board a name."

# --- step 2: credentials and scope --------------------------------------------------------------------------

CONNECT_CREDENTIALS_INTRO = "*{source}*: how flowcoach reaches it."
CONNECT_FIELD_LABELS = {
    "url": "Site address",
    "email": "E-mail",
    "token": "Token",
    "project": "Project key",
    "jql": "JQL query",
    "board_id": "Board id",
    "path": "Event-log file",
}
CONNECT_HINT_ENCRYPTED = "{description}. flowcoach stores it encrypted and never shows it again."
CONNECT_HINT_KEPT = "Leave empty to keep the one you entered. {description}. Stored encrypted."
CONNECT_PROJECT_LATER = "Leave project and JQL empty to choose from your projects after the check."
CONNECT_PROJECT_PLACEHOLDER = "Choose a project"
CONNECT_PROJECTS_FOUND = (
    ":white_check_mark: Signed in. Choose the board's project, or give a JQL query instead."
)
CONNECT_PROJECTS_TOO_MANY = (
    "This account sees {count} projects, more than a menu lists: type the project key."
)
CONNECT_PROJECTS_NONE = "This account sees no project: give a JQL query, or ask for browse permission."
CONNECT_NO_KEY = (
    "FLOWCOACH_SECRET_KEY is not set on the flowcoach server, so credentials cannot be stored encrypted. "
    "Ask whoever runs flowcoach to set it, then connect again."
)
CONNECT_KEPT_UNREADABLE = "Enter it again: the copy kept during this setup can no longer be read."
CONNECT_PROBLEM = ":warning: {problem}"
CONNECT_UNEXPECTED = "Something went wrong while asking the source; the details are in flowcoach's log."
CONNECT_TOO_LONG = "Too long to carry between the steps of this form: shorten it."

# --- while the source is asked ------------------------------------------------------------------------------

CONNECT_CHECKING = ":hourglass_flowing_sand: Checking the connection to {source}… this takes a few seconds."

# --- step 3: statuses → stages ------------------------------------------------------------------------------

CONNECT_CONNECTED = ":white_check_mark: Connected: {line}"
CONNECT_MAPPING_INTRO = (
    "Each stage is a column of the board, left to right: choose the statuses that mean it and its kind — "
    "*backlog* (not started), *queue* (started, waiting), *active* (being worked on), *done*, "
    "*discarded* (abandoned). WIP limits are optional; `/flow limits` changes them later."
)
CONNECT_STAGE_LABEL = "Stage {number}"
CONNECT_EXTRA_STAGE_LABEL = "Stage {number} (optional: fill in to add a stage)"
CONNECT_STATUSES_LABEL = "Statuses of stage {number}"
CONNECT_STATUSES_PLACEHOLDER = "Choose statuses"
CONNECT_KIND_LABEL = "Kind of stage {number}"
CONNECT_WIP_LABEL = "WIP limit of stage {number} (items)"
CONNECT_KIND_NAMES = {
    "backlog": "Backlog — not started",
    "queue": "Queue — started, waiting",
    "active": "Active — being worked on",
    "done": "Done — finished",
    "discarded": "Discarded — abandoned",
}
CONNECT_UNMAPPED = "*Not mapped:* {statuses}. Items moving into these statuses keep their previous stage."
CONNECT_ALL_MAPPED = "Every status is mapped to a stage."
CONNECT_TOO_MANY_STATUSES = (
    "{source} reports {count} statuses, more than a Slack menu lists (100), so the mapping is edited as "
    "workflow YAML below (the format is in the README)."
)
CONNECT_TOO_MANY_STAGES = (
    "{count} stages do not fit in this form, so the mapping is edited as workflow YAML below "
    "(the format is in the README)."
)
CONNECT_YAML_LABEL = "Workflow (YAML)"
CONNECT_YAML_HINT = "Stages list status ids; the comments give their names."
CONNECT_YAML_TOO_LONG = (
    "The proposed workflow is longer than a Slack field holds. Add this board from the command line instead: "
    "`flowcoach board add NAME --connector {connector} --workflow FILE`."
)
CONNECT_STAGE_NEEDS_NAME = "Give this stage a name, or clear its statuses."
CONNECT_STAGE_NEEDS_STATUSES = "Choose at least one status for this stage."
CONNECT_STAGE_NEEDS_KIND = "Choose what kind of stage this is."
CONNECT_LIMIT_NOT_NUMBER = "A WIP limit is a whole number of items, 1 or more."
CONNECT_NO_STAGES = "Map at least one stage."
CONNECT_NO_DONE = "At least one stage must be of kind Done: an item is finished when it gets there."
CONNECT_NO_WIP_STAGE = "At least one stage must be of kind Queue or Active: that is where work happens."
CONNECT_DUPLICATE_STAGE = "Another stage already has this name."
CONNECT_STATUS_TWICE = "{status} is already in stage {stage}: a status belongs to one stage only."
CONNECT_LIMIT_NOT_WIP = "Only queue and active stages hold WIP: remove the limit or change the kind."

# --- after the modal: the first sync ------------------------------------------------------------------------

CONNECT_READY = (
    ":white_check_mark: *{board}* is connected to this channel: {items} items and {events} events "
    "loaded from {source}."
)
CONNECT_READY_TEXT = "{board} is connected: {items} items loaded."
CONNECT_READY_WIP = "*WIP now:* {stages} ({total} in total)."
CONNECT_READY_NO_WIP = "*WIP now:* nothing in progress."
CONNECT_READY_FINISHED = "*Finished in the last 30 days:* {count}."
CONNECT_READY_NEXT = (
    "Try `/flow status` here for WIP, aging and blocked items, `/flow settings` for working hours and the "
    "daily digest, and `/flow limits` to agree on WIP limits."
)
CONNECT_SYNC_FAILED = ":warning: *{board}* is saved, but its first sync failed: {problem}"
CONNECT_SYNC_FAILED_TEXT = "{board} is saved, but its first sync failed."
CONNECT_SYNC_FAILED_NEXT = (
    "flowcoach tries again at its next scheduled sync. If the credentials or the project are wrong, remove "
    "the board (`flowcoach board remove {board}`) and connect it again with `/flow connect`."
)
CONNECT_SYNC_FAILED_UNKNOWN = "an unexpected error (the details are in flowcoach's log)"
CONNECT_POSTED_HERE_INSTEAD = "I could not post in <#{channel}>: invite me there with `/invite @flowcoach`."

# --- /flow settings -----------------------------------------------------------------------------------------

SETTINGS_TITLE = "Board settings"
SETTINGS_SAVE = "Save"
SETTINGS_CANCEL = "Cancel"
SETTINGS_INTRO = (
    "Settings of *{board}*. They override the workflow file's calendar; "
    "WIP limits are set with `/flow limits`."
)
SETTINGS_CHANNEL_LABEL = "Channel"
SETTINGS_CHANNEL_HINT = "Where status, digests and nudges go."
SETTINGS_TIMEZONE_LABEL = "Time zone"
SETTINGS_TIMEZONE_HINT = "An IANA name such as Europe/Zurich: it defines the board's days and working hours."
SETTINGS_DAYS_LABEL = "Working days"
SETTINGS_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
SETTINGS_START_LABEL = "Working day starts"
SETTINGS_END_LABEL = "Working day ends"
SETTINGS_HOURS_HINT = "The coach speaks only in working hours; cycle times still count every hour."
SETTINGS_DIGEST_LABEL = "Daily digest at"
SETTINGS_THRESHOLDS_INTRO = "*When the coach speaks* (the defaults suit most teams)"
SETTINGS_THRESHOLD_LABELS = {
    "queue_min_net": "Queue growing: net arrivals (items)",
    "queue_window_days": "Queue growing: over (working days)",
    "starving_after_hours": "Stage starving after (working hours)",
    "blocked_after_hours": "Blocked item alert after (working hours)",
    "cooldown_hours": "Repeat an alert after (working hours)",
    "max_alerts_per_day": "Alerts per channel per day (at most)",
    "stale_after_hours": "Data stale after (hours)",
}
SETTINGS_CHANGE_NAMES = {
    "channel": "Channel",
    "timezone": "Time zone",
    "working_days": "Working days",
    "working_hours": "Working hours",
    "digest_time": "Daily digest",
}
SETTINGS_NO_CHANNEL = "none"
SETTINGS_SAVED = "Settings of *{board}* saved by <@{user}>:"
SETTINGS_SAVED_TEXT = "Settings of {board} saved."
SETTINGS_CHANGE = "• {what}: {before} → {after}"
SETTINGS_UNCHANGED = "Settings of *{board}* saved: nothing changed."
SETTINGS_NO_DAYS = "Choose at least one working day."
SETTINGS_END_BEFORE_START = "The working day must end after it starts."
SETTINGS_REQUIRED = "Required."
SETTINGS_NOT_HERE = "That board is not one of this workspace's boards: nothing was changed."
