import pytest

from funding import services


def refusal(service, *args, **kwargs) -> str:
    """The message a person is shown when `service` refuses."""
    with pytest.raises(services.FundingError) as refused:
        service(*args, **kwargs)
    return str(refused.value)
