"""The analyst's review desk (``osint serve``): read, correct and approve a period's draft.

The web application lives in :mod:`osint.desk.app`; importing this package loads no web
framework, so ``osint users`` stays light.
"""
