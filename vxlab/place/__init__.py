"""Groups on hypervisors (issue 31): what a group needs, where it fits, what a drain moves."""
