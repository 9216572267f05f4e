"""A module that fails at import with something other than ImportError."""

from __future__ import annotations

raise RuntimeError("this module cannot be imported")
