"""HTTP routes of the seat assistant (thin: parse, authorise, call, shape)."""

from fastapi import APIRouter

from gridgov_common.deps import AnyRole
from gridgov_event_intake.assist import service
from gridgov_event_intake.assist.departments import department_name, department_of
from gridgov_event_intake.assist.schemas import ClassificationRead, ClassifyRequest, SuggestionRead
from gridgov_event_intake.catalog.handlers import categories_in_effect
from gridgov_event_intake.deps import Runtime

router = APIRouter(prefix="/v1/assist", tags=["assist"])


@router.post("/classify", response_model=ClassificationRead)
def post_classify(body: ClassifyRequest, runtime: Runtime, _principal: AnyRole) -> ClassificationRead:
    """Suggest the top three middle codes for a text, with calibrated confidence and the department type of each,
    or abstain (不确定，请人工选择). Nothing is stored. Who: any signed-in person (not a device gateway)."""
    result = service.suggest(runtime.db, body.text)
    book = categories_in_effect(runtime.db)
    suggestions = []
    for s in result.suggestions:
        category = book.get(s.code)
        if category is None:
            continue  # a code the catalog in effect dropped is never suggested
        department = department_of(s.code)
        suggestions.append(SuggestionRead(code=s.code, name=category.name_zh, confidence=s.confidence,
                                          department_type=department, department_type_name=department_name(department)))
    return ClassificationRead(model_version=result.model_version, abstained=result.abstained, reason=result.reason,
                              suggestions=suggestions)
