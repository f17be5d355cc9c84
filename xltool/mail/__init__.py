"""Mail: send the templates, collect the returns."""
