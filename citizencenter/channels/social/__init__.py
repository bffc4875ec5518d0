"""Social media channels: Meta's Messenger and Instagram conversations become cases."""
