"""免申即享: benefits pushed to the people and companies who qualify, without an application."""
