"""The registration desk (登记台): analyse a draft while the clerk types, then register and dispatch in one step."""
