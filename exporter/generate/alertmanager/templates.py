"""DIR/alertmanager/templates/*.tmpl: the Go templates of Slack, email and PagerDuty messages.

Every message says what the business loses before what broke: the stakeholder message and
business impact, revenue at risk and recovery SLA (annotations of the alert definition), the
component (probe / service / tenant), then the technical message and the runbook. Alerts
without those annotations (self-monitoring, burn rates) fall back to summary and description.
`amtool check-config` parses these files; the end-to-end tests render them for real.
"""

from __future__ import annotations

from exporter.generate.render import HEADER

COMMON = """
{{ define "business.title" -}}
[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}]
{{- with .CommonLabels.priority }} {{ . }}{{ end }} {{ .CommonLabels.alertname }}
{{- with .CommonLabels.context }} | {{ . }}{{ end }}
{{- with .CommonLabels.tenant }} | tenant {{ . }}{{ end }}
{{- end }}

{{ define "business.component" -}}
{{ or .Labels.probe "-" }} / {{ or .Labels.service "-" }} / {{ or .Labels.tenant "-" }}
{{- end }}

{{ define "business.escalation" -}}
{{ if .Labels.escalate_to }}level {{ .Labels.escalation_level }}: {{ .Labels.escalate_to }}{{ end }}
{{- end }}
"""

SLACK = """
{{ define "business.slack.color" -}}
{{ if eq .Status "resolved" }}good
{{- else if match "^(emergency|critical)$" .CommonLabels.severity }}danger
{{- else }}warning{{ end }}
{{- end }}

{{ define "business.slack.title" }}{{ template "business.title" . }}{{ end }}

{{ define "business.slack.text" -}}
{{ range .Alerts -}}
{{ if eq .Status "resolved" }}*RESOLVED* {{ end }}*{{ or .Annotations.summary .Labels.alertname }}*
{{ with .Annotations.stakeholder_message }}{{ . }}
{{ end -}}
{{ with .Annotations.business_impact }}*Business impact:* {{ . }}
{{ end -}}
{{ with .Annotations.revenue_at_risk }}*Revenue at risk:* {{ . }}
{{ end -}}
{{ with .Annotations.recovery_sla }}*Recovery SLA:* {{ . }}
{{ end -}}
*Component:* {{ template "business.component" . }}
{{ if .Labels.escalate_to }}*Escalation:* {{ template "business.escalation" . }}
{{ end -}}
{{ with .Annotations.technical_message }}*Technical:* ```{{ . }}```
{{ else }}{{ with .Annotations.description }}*Details:* {{ . }}
{{ end }}{{ end -}}
{{ with .Annotations.runbook_url }}*Runbook:* <{{ . }}>
{{ end }}
{{ end -}}
{{- end }}
"""

EMAIL = """
{{ define "business.email.subject" }}{{ template "business.title" . }}{{ end }}

{{ define "business.email.text" -}}
{{ template "business.title" . }}
{{ range .Alerts }}
== {{ or .Annotations.summary .Labels.alertname }} ({{ .Status }}) ==
{{ with .Annotations.stakeholder_message }}{{ . }}
{{ end -}}
{{ with .Annotations.business_impact }}Business impact: {{ . }}
{{ end -}}
{{ with .Annotations.revenue_at_risk }}Revenue at risk: {{ . }}
{{ end -}}
{{ with .Annotations.recovery_sla }}Recovery SLA: {{ . }}
{{ end -}}
Component: {{ template "business.component" . }}
{{ if .Labels.escalate_to }}Escalation: {{ template "business.escalation" . }}
{{ end -}}
{{ with .Annotations.technical_message }}Technical: {{ . }}
{{ else }}{{ with .Annotations.description }}Details: {{ . }}
{{ end }}{{ end -}}
{{ with .Annotations.runbook_url }}Runbook: {{ . }}
{{ end -}}
Started: {{ .StartsAt.UTC.Format "2006-01-02 15:04:05 MST" }}
{{ end }}
--
{{ .ExternalURL }}
{{- end }}

{{ define "business.email.color" -}}
{{ if eq .Status "resolved" }}#28a745
{{- else if match "^(emergency|critical)$" .CommonLabels.severity }}#dc3545
{{- else }}#fd7e14{{ end }}
{{- end }}

{{ define "business.email.html" -}}
<!DOCTYPE html>
<html><head><style>
body { font-family: Arial, sans-serif; margin: 0; padding: 20px; }
h2 { margin: 0; padding: 15px; color: white; border-radius: 5px; }
div.alert { margin: 20px 0; padding: 15px; border-left: 4px solid #007bff; background: #f8f9fa; }
th { text-align: left; padding-right: 1em; }
</style></head><body>
<h2 style="background: {{ template "business.email.color" . }}">
{{- template "business.title" . }}</h2>
{{ range .Alerts }}
<div class="alert">
<h3>{{ or .Annotations.summary .Labels.alertname }} ({{ .Status }})</h3>
{{ with .Annotations.stakeholder_message }}<p>{{ . }}</p>{{ end }}
<table>
{{ with .Annotations.business_impact }}<tr><th>Business impact</th><td>{{ . }}</td></tr>{{ end }}
{{ with .Annotations.revenue_at_risk }}<tr><th>Revenue at risk</th><td>{{ . }}</td></tr>{{ end }}
{{ with .Annotations.recovery_sla }}<tr><th>Recovery SLA</th><td>{{ . }}</td></tr>{{ end }}
<tr><th>Component</th><td>{{ template "business.component" . }}</td></tr>
{{ if .Labels.escalate_to -}}
<tr><th>Escalation</th><td>{{ template "business.escalation" . }}</td></tr>
{{- end }}
<tr><th>Started</th><td>{{ .StartsAt.UTC.Format "2006-01-02 15:04:05 MST" }}</td></tr>
</table>
{{ with .Annotations.technical_message }}<p><strong>Technical:</strong> <code>{{ . }}</code></p>
{{ else }}{{ with .Annotations.description }}<p>{{ . }}</p>{{ end }}{{ end }}
{{ with .Annotations.runbook_url }}<p><a href="{{ . }}">Runbook</a></p>{{ end }}
</div>
{{ end }}
<p><a href="{{ .ExternalURL }}">Alertmanager</a></p>
</body></html>
{{- end }}
"""

PAGERDUTY = """
{{ define "business.pagerduty.severity" -}}
{{ if match "^(emergency|critical)$" .CommonLabels.severity }}critical
{{- else if eq .CommonLabels.severity "high" }}error
{{- else if eq .CommonLabels.severity "medium" }}warning
{{- else }}info{{ end }}
{{- end }}

{{ define "business.pagerduty.description" -}}
{{ template "business.title" . }}:
{{- with index .Alerts 0 }} {{ or .Annotations.summary .Labels.alertname }}{{ end }}
{{- end }}
"""

# File name -> text; each starts with the generated-file header, which Alertmanager ignores:
# text outside a `define` belongs to no template it executes.
TEMPLATES = {
    "common.tmpl": HEADER + COMMON,
    "email.tmpl": HEADER + EMAIL,
    "pagerduty.tmpl": HEADER + PAGERDUTY,
    "slack.tmpl": HEADER + SLACK,
}


def template(name: str) -> str:
    """A receiver field that executes one of the named templates above."""
    return f'{{{{ template "business.{name}" . }}}}'
