"""Routing's API: rules and queue policies, guides and their work, routing seen from one case."""

from citizencenter.routing.views import cases, guides, rules, webhooks

# In the order the app registers them (the OpenAPI document lists tags in this order).
blueprints = (rules.blp, guides.blp, cases.blp, webhooks.blp)
