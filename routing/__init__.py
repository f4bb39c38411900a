"""The decision core: domain models, classifier, eligibility, scoring, budgets and routing."""
