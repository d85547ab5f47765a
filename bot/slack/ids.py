"""Action, callback and block ids shared by the Block Kit builders and the listeners that receive them."""

from __future__ import annotations

# Buttons
POST_STATUS = "flow_post_status"  # value: board id; posts the board's status in its channel
OPEN_SETTINGS = "flow_open_settings"  # value: board id; opens the settings modal
OPEN_CONNECT = "flow_open_connect"  # opens the connect modal (App Home, "connect a board" replies)

# Modals (view callback ids)
CONNECT_CHOOSE = "flow_connect_choose"  # step 1: connector
CONNECT_CREDENTIALS = "flow_connect_credentials"  # step 2: credentials and scope
CONNECT_CHECKING = "flow_connect_checking"  # interim view while the source is asked
CONNECT_MAPPING = "flow_connect_mapping"  # step 3: status → stage mapping, kinds, WIP limits
SETTINGS = "flow_settings"

# Inside the connect modal's mapping step: they edit the list of stages in place (views.update)
CONNECT_STAGE_MENU = "flow_connect_stage_menu"  # a stage's ⋯ menu; option value "<op>:<stage key>"
CONNECT_ADD_STAGE = "flow_connect_add_stage"  # appends an empty stage
CONNECT_EDIT_YAML = "flow_connect_edit_yaml"  # the mapping so far as workflow YAML

# Nudge buttons (value: the alert's id)
ALERT_SNOOZE_HOUR = "flow_alert_snooze_hour"
ALERT_SNOOZE_TOMORROW = "flow_alert_snooze_tomorrow"
ALERT_SNOOZE_WEEK = "flow_alert_snooze_week"
ALERT_ACKNOWLEDGE = "flow_alert_acknowledge"
ALERT_SHOW_ITEMS = "flow_alert_show_items"
