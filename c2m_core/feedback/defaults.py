"""The core's feedback routing, as a default plugin: keyword and tag rules, first match wins.

Delivery goes to the supply chain, packaging to design, invoices to finance, quality to
production (Shanghai Jahwa's routing); anything else to customer service.
"""

from c2m_core.hookspecs import hookimpl

from .records import FALLBACK_DEPARTMENT, FeedbackRoute, FeedbackRule

DEFAULT_RULES = (
    FeedbackRule(
        "delivery",
        "supply_chain",
        keywords=("delivery", "delivered", "shipping", "shipped", "courier", "arrived late",
                  "late", "物流", "快递", "送货"),
        tags=("delivery", "shipping", "logistics"),
    ),
    FeedbackRule(
        "packaging",
        "design",
        keywords=("packaging", "package", "box", "unboxing", "包装"),
        tags=("packaging",),
    ),
    FeedbackRule(
        "invoice",
        "finance",
        keywords=("invoice", "receipt", "billing", "charged", "发票"),
        tags=("invoice", "billing", "payment"),
    ),
    FeedbackRule(
        "quality",
        "production",
        keywords=("broken", "defect", "defective", "faulty", "quality", "stopped working",
                  "dead pixel", "质量", "坏了"),
        tags=("quality", "defect"),
    ),
)  # fmt: skip


@hookimpl
def register_feedback_rules():
    return list(DEFAULT_RULES)


@hookimpl
def classify_feedback(category, feedback, rules):
    """First matching rule gives the department; the first matching rule with a module names it.

    Without a module rule, a module whose id or title the text names is the one it names.
    """
    department = rule_id = None
    module = option = None
    for rule in rules:
        if not rule.matches(feedback.text, feedback.tags):
            continue
        if department is None:
            department, rule_id = rule.department, rule.id
        if module is None and rule.module is not None:
            module, option = rule.module, rule.option
    if module is None:
        module = named_module(category.catalog, feedback.text)
    return FeedbackRoute(department or FALLBACK_DEPARTMENT, module, option, rule_id)


def named_module(catalog, text: str) -> str | None:
    """The first catalog module whose id or title the text names as a word, else None."""
    for module in catalog.modules:
        names = (module.id, module.id.replace("-", " "), module.title)
        if FeedbackRule(module.id, "-", keywords=names).matches_text(text):
            return module.id
    return None
