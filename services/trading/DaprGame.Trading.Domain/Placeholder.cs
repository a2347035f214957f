namespace DaprGame.Trading.Domain;
