"""The benchmark behind the README's Performance table: ``make bench`` (``python -m bench``)."""
