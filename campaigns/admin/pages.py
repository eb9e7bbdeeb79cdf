"""The intermediate pages of the campaign actions (preview, send, standard templates).

They are small, so they live here as template strings on the admin's own base template
rather than as files; each posts back to the changelist with the action and the selection,
the way Django's own delete confirmation does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse

_FRAME = """{% extends "admin/base_site.html" %}{% load admin_urls %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">Home</a> ›
<a href="{% url 'admin:app_list' app_label=opts.app_label %}">{{ opts.app_config.verbose_name }}</a> ›
<a href="{% url opts|admin_urlname:'changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a> ›
{{ title }}</div>{% endblock %}
{% block content %}<div id="content-main">@BODY@</div>{% endblock %}
"""

# Posts the chosen action back for the selected campaigns; @FIELDS@ goes inside the form.
_ACTION_FORM = """<form method="post" action="{% url opts|admin_urlname:'changelist' %}">{% csrf_token %}
<input type="hidden" name="action" value="{{ action }}">
{% for pk in selected %}<input type="hidden" name="{{ checkbox_name }}" value="{{ pk }}">{% endfor %}
@FIELDS@
</form>"""

_ESTIMATE = """
{% if estimate %}
<h2>Cost estimate</h2>
<table>
<thead><tr><th>channel</th><th>language</th><th>recipients</th><th>parts</th><th>encoding</th><th>credits</th></tr></thead>
<tbody>
{% for row in estimate.by_variant %}
<tr><td>{{ row.channel_label }}</td><td>{{ row.language }}</td><td>{{ row.recipients }}</td><td>{{ row.segments }}</td>
<td>{{ row.encoding }}</td><td>{{ row.credits }}</td></tr>
{% empty %}<tr><td colspan="6">Nobody to send to.</td></tr>
{% endfor %}
</tbody>
<tfoot><tr><th>total</th><th></th><th>{{ estimate.recipients }}</th><th></th><th></th><th>{{ estimate.credits }}</th></tr></tfoot>
</table>
{% if estimate.skipped %}<p class="estimate-skipped">Would be skipped: {% for label, n in estimate.skipped_by_reason %}{{ n }} × {{ label }}{% if not forloop.last %}, {% endif %}{% endfor %}.</p>{% endif %}
<p class="estimate-balance">Balance: {{ estimate.balance }} credits.
{% if not estimate.sufficient %}<strong class="errornote">Not enough credits: {{ estimate.refusal }}.</strong>{% endif %}</p>
{% endif %}
"""

PREVIEW = (
    """
<p>{{ when }}{% if note %} — {{ note }}{% endif %}</p>
{% if error %}<p class="errornote">{{ error }}</p>{% else %}
<p>{{ preview.count }} would get the message{% if preview.estimate.skipped_total %}, {{ preview.estimate.skipped_total }} would be skipped{% endif %}; the first {{ preview.rows|length }} of the audience are shown.</p>
<table id="preview-rows">
<thead><tr><th>recipient</th><th>address</th><th>language</th><th>subject</th><th>text</th><th>SMS parts</th></tr></thead>
<tbody>
{% for row in preview.rows %}
<tr>
<td>{{ row.guest.full_name }}</td><td>{{ row.address|default:"—" }}</td><td>{{ row.language|default:"—" }}</td>
{% if row.error %}<td colspan="3" class="errornote">{{ row.error }}</td>
{% else %}<td>{{ row.subject }}</td><td style="white-space:pre-wrap">{{ row.text }}</td>
<td>{% if row.segments %}{{ row.segments.parts }} × {{ row.segments.encoding }}{% else %}—{% endif %}</td>{% endif %}
</tr>
{% empty %}<tr><td colspan="6">Nobody is in the audience.</td></tr>
{% endfor %}
</tbody></table>
"""
    + _ESTIMATE
    + """
{% if can_send %}"""
    + _ACTION_FORM.replace(
        "@FIELDS@",
        '<p><input type="submit" class="default" value="Send to all now…"></p>',
    ).replace("{{ action }}", "send_now")
    + """{% endif %}{% endif %}
<p><a href="{% url opts|admin_urlname:'change' campaign.pk %}">Back to the campaign</a></p>
"""
)

CONFIRM_SEND = (
    """
<p>Send “{{ campaign }}” to everyone in its audience now?</p>
{% if error %}<p class="errornote">{{ error }}</p>{% endif %}
"""
    + _ESTIMATE
    + _ACTION_FORM.replace(
        "@FIELDS@",
        '<input type="hidden" name="confirm" value="yes">'
        '<p><input type="submit" class="default" value="Yes, send now"> '
        '<a href="{% url opts|admin_urlname:\'changelist\' %}" class="button cancel-link">No, take me back</a></p>',
    )
)

GALLERY = _ACTION_FORM.replace(
    "@FIELDS@",
    """<p>Write a standard template into {{ selected|length }} campaign{{ selected|length|pluralize }}:
{{ campaigns|join:", " }}.</p>
<fieldset class="module aligned">{% for field in form %}
<div class="form-row field-{{ field.name }}">{{ field.errors }}{{ field.label_tag }} {{ field }}
{% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}</div>
{% endfor %}</fieldset>
<input type="hidden" name="apply" value="yes">
<div class="submit-row"><input type="submit" class="default" value="Write the template">
<a href="{% url opts|admin_urlname:'changelist' %}" class="button cancel-link">Cancel</a></div>""",
)


def render_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, body: str, *, title: str, **context: Any
) -> TemplateResponse:
    """Render ``body`` inside the admin's frame, with what the action form needs."""
    template = engines["django"].from_string(_FRAME.replace("@BODY@", body))
    return TemplateResponse(
        request,
        template,  # type: ignore[arg-type]
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        },
    )
