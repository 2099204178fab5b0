"""Custom actions of the kefu bot (rasa_sdk).

Modules are split by concern: ``faq`` (policy answers), ``verification``
(who may see an order), ``orders`` (status, tracking, urging), ``address``,
``cancel``, ``returns`` (returns and exchanges), ``refunds``, ``usage``
(product guides). ``shop`` holds the database layer, ``demo`` the demo-shop
generator and ``importer`` the JSON import of a real shop's data.
"""
