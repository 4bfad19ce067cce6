"""The platforms a post text is made for: the one list of them, with each one's usual limit.

``[social] platforms`` is checked against it, the post texts are made and counted for
the platforms it names, and its order is the order of every output that lists them.
"""

from __future__ import annotations

#: Each platform's usual limit, in its own unit (see :func:`syndicate.social.counting.count`).
LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300, "linkedin": 3000, "threads": 500}
#: Every platform, in the order of :data:`LIMITS`.
PLATFORMS = tuple(LIMITS)
