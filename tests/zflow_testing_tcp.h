/*  =========================================================================
    zflow_testing_tcp - a raw TCP listener on 127.0.0.1 for tests that play
    a peer by hand (a hostile or slow broker)
    =========================================================================
*/
#ifndef ZFLOW_TESTING_TCP_H_INCLUDED
#define ZFLOW_TESTING_TCP_H_INCLUDED

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

//  Listens on 127.0.0.1 on a free port; rcvbuf > 0 sets the receive
//  buffer the accepted sockets inherit (set before they connect, so that
//  the TCP window is scaled for it). Returns the listening socket (the
//  caller closes it) and its port in *port_p, or -1.
static inline int zflow_testing_listen (int rcvbuf, int *port_p)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt (listener, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof (address);
    if (bind (listener, (struct sockaddr *) &address, sizeof (address)) || listen (listener, 4) ||
        getsockname (listener, (struct sockaddr *) &address, &length)) {
        close (listener);
        return -1;
    }
    *port_p = ntohs (address.sin_port);
    return listener;
}

#endif
