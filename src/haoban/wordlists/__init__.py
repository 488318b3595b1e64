"""Word lists as package data files (read by ``haoban.textutil``)."""
