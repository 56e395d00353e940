"""The models ``tcdb train`` knows, one module each, declaring the ``ml.contract.Model``
contract over their training code; ``ml.registry`` lists them."""
