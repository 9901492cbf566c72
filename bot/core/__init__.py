"""Commands and answers, free of any chat platform: requests in, Replies out."""
