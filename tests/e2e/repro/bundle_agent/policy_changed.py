def decide(state):
    # (uncommitted: overdue accounts with a grace flag get their grace period)
    if state["status"] == "overdue" and not state.get("grace"):
        return "closed account A-1: overdue without grace"
    if state["status"] == "overdue":
        return "account A-1 put on a grace period"
    return "account A-1 is in good standing"
