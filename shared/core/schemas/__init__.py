"""API shapes: request and response models named and laid out exactly as the API reference documents them."""
