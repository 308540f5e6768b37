"""xinfang (智慧信访): register, route, handle and analyse citizens' petitions, offline."""

__version__ = "0.1.0"
