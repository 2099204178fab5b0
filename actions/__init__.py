"""Custom actions of the kefu bot (rasa_sdk).

Modules are split by concern: ``faq`` (policy answers), ``verification``
(who may see an order), ``orders`` (status, tracking, urging), ``address``,
``cancel``, ``returns`` (returns and exchanges), ``refunds``, ``usage``
(product guides). ``shop`` holds the database layer, ``demo`` the demo-shop
generator and ``importer`` the JSON import of a real shop's data.
"""

from bot.pii import install_log_masking

# Shoppers' phones, order numbers and addresses never reach the action server's logs.
install_log_masking()
