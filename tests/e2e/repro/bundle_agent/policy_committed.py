def decide(state):
    if state["status"] == "overdue":
        return "closed account A-1"
    return "account A-1 is in good standing"
