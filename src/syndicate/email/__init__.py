"""The email digest: choosing what is due, rendering it with MJML, and the MIME message."""
