"""History, installed alone with the core."""

import pytest

from hookfit import Callback
from hookfit_history import History


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras's fit returns its own History: hookfit_keras.Plugins leaves hookfit's out",
)
def test_fit_returns_the_history_of_every_epoch(hookfit_model, hookfit_data):
    x, y = hookfit_data
    model = hookfit_model()
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25)
    assert isinstance(history, History) and model.history is history
    assert history.epoch == [0, 1, 2]
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert len(history.history["val_loss"]) == 3
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[48:], y[48:], verbose=0)[0]
    )


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras's fit returns its own History: hookfit_keras.Plugins leaves hookfit's out",
)
def test_keys_added_by_named_plugins_are_recorded(hookfit_model, hookfit_data):
    class AddsLr(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["lr"] = self.model.optimizer.lr * (epoch + 1)

    x, y = hookfit_data
    model = hookfit_model()
    model.optimizer.lr = 0.01  # through the plugin protocol: every host starts there
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[AddsLr()])
    assert history.history["lr"] == [0.01, 0.02]


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras's fit returns its own History: hookfit_keras.Plugins leaves hookfit's out",
)
def test_state_is_reset_for_every_fit(hookfit_model, hookfit_data):
    x, y = hookfit_data
    history = History()
    model = hookfit_model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[history], validation_split=0.25)
    assert (
        model.fit(x, y, epochs=1, verbose=0, callbacks=[history], validation_split=0.25) is history
    )
    assert history.epoch == [0] and len(history.history["val_loss"]) == 1


@pytest.mark.hookfit_not_on(
    "keras",
    reason="Keras's fit returns its own History: hookfit_keras.Plugins leaves hookfit's out",
)
def test_switched_off_fit_returns_none(hookfit_model, hookfit_data):
    x, y = hookfit_data
    off = {"hookfit": {"disable": ["history"]}}
    assert hookfit_model().fit(x, y, epochs=1, verbose=0, config=off) is None
