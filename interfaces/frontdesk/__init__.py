"""Front-desk screens: reservations, guests, one-off messages (URL namespace ``guests``)."""
