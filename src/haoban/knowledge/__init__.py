"""Knowledge base for instant answers (即时答复): Chinese BM25 search in `search`."""
