"""Platform adapters: platform events in, core requests out, Replies back; nothing else."""
