"""osint: automated OSINT weekly country security reports.

collect -> extract -> store -> classify -> cluster -> analyse -> render -> distribute.
"""

__version__ = "0.1.0"
