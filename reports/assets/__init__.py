"""The site's script and style, shipped with the package and copied beside the pages."""
