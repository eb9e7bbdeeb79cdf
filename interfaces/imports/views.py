"""The import screens (I3), for managers and the front desk (permission *run_import*):
upload → map the columns (the source's preset filled in) → the dry run's table, row by row →
a confirming POST imports exactly the file that was checked."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.generic import TemplateView

from crm_messaging.ui.once import Resubmitted, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, paginate, refusal

from .fields import suggest_mapping
from .forms import MappingForm, UploadForm
from .models import ImportPreset, ImportUpload
from .reading import Table
from .report import ERROR, OUTCOMES, ImportReport
from .services import import_apply, import_check, import_upload_create, upload_table

ROWS_PER_PAGE = 100
MAPPABLE = (ImportUpload.Status.UPLOADED, ImportUpload.Status.CHECKED)
RUNNING = (ImportUpload.Status.CHECKING, ImportUpload.Status.APPLYING)
PREVIEW_ROWS = 5

UPLOAD = "import-upload"


class ImportView(StaffView, TemplateView):
    permission_required = "imports.run_import"


class ImportStartView(ImportView):
    template_name = "imports/start.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", UploadForm())
        context["uploads"] = ImportUpload.objects.defer("content").select_related("uploaded_by")[
            :20
        ]
        context["sources"] = ImportPreset.objects.values_list("source", flat=True).distinct()
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if again := resubmitted(request, form=UPLOAD):
            return again.response(request)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                upload = submit_once(
                    request,
                    form=UPLOAD,
                    write=lambda: import_upload_create(
                        data=data["file"].read(),
                        filename=data["file"].name,
                        kind=data["kind"],
                        source=data["source"],
                        encoding=data["encoding"],
                        delimiter=data["delimiter"],
                        user=request.user,
                    ),
                    landing=lambda made: reverse("imports:map", args=[made.pk]),
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                form.add_error("file", refusal(exc))
            else:
                return HttpResponseRedirect(reverse("imports:map", args=[upload.pk]))
        return self.render_to_response(self.get_context_data(form=form))


class ImportMapView(ImportView):
    template_name = "imports/map.html"

    def _page(self, upload: ImportUpload, table: Table, form: MappingForm) -> HttpResponse:
        preview = [cells for _line, cells in table.rows[:PREVIEW_ROWS]]
        return render(
            self.request,
            self.template_name,
            {"upload": upload, "table": table, "preview": preview, "form": form},
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        upload = get_object_or_404(ImportUpload, pk=pk, status__in=MAPPABLE)
        table = upload_table(upload)
        preset = ImportPreset.objects.filter(source=upload.source, kind=upload.kind).first()
        initial = upload.mapping or suggest_mapping(table.headers, upload.kind)
        if preset is not None:
            # The preset's columns that this file has; anything else is suggested afresh.
            initial = {**initial, **{k: c for k, c in preset.mapping.items() if c in table.headers}}
        form = MappingForm(initial=initial, headers=table.headers, kind=upload.kind)
        return self._page(upload, table, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        upload = get_object_or_404(ImportUpload, pk=pk, status__in=MAPPABLE)
        table = upload_table(upload)
        form = MappingForm(request.POST, headers=table.headers, kind=upload.kind)
        if not form.is_valid():
            return self._page(upload, table, form)
        try:
            import_check(upload=upload, mapping=form.mapping(), user=request.user)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        return HttpResponseRedirect(reverse("imports:detail", args=[upload.pk]))


class ImportDetailView(ImportView):
    template_name = "imports/detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.headers.get("HX-Request"):
            # The progress poll: keep polling while the task runs, then reload the page.
            upload = get_object_or_404(ImportUpload.objects.defer("content"), pk=kwargs["pk"])
            if upload.status in RUNNING:
                return render(request, "imports/_running.html", {"upload": upload})
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        upload = get_object_or_404(ImportUpload.objects.defer("content"), pk=kwargs["pk"])
        data = upload.result or upload.dry_run
        report = ImportReport.from_json(data) if data else None
        outcome = self.request.GET.get("outcome", "")
        rows = report.rows if report else []
        if outcome in OUTCOMES:
            rows = [r for r in rows if r.outcome == outcome]
        context.update(
            upload=upload,
            report=report,
            outcome=outcome,
            outcomes=OUTCOMES,
            running=upload.status in RUNNING,
            mappable=upload.status in MAPPABLE,
            error=ERROR,
            page=paginate(self.request, rows, ROWS_PER_PAGE),  # type: ignore[arg-type]
        )
        return context


class ImportApplyView(ImportView):
    http_method_names = ["post"]  # a GET (a prefetch, a pasted link) imports nothing and is no 500

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        upload = get_object_or_404(ImportUpload.objects.defer("content"), pk=pk)
        try:
            import_apply(upload=upload, user=request.user)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        return HttpResponseRedirect(reverse("imports:detail", args=[pk]))
