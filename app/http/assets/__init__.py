"""Files the app serves as they are: the GraphiQL page, the room display page, and what they load."""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
